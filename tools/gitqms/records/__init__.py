"""Records: where they live, how they are read, and the typed objects they become."""
