"""The AVG dataset on disk: where it lives and how its files are laid out."""
