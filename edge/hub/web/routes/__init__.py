"""One module per page of the officers' web app; each exposes ``router``."""
