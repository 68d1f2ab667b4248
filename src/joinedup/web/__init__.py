"""The web shell: layout, navigation, role home pages, error pages and the template environment."""
