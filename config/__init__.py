"""User-editable configuration files: the catalogue of brands and touchpoints, the sources."""
