"""joinedup: the digital platform of a place-based health and social care partnership."""
