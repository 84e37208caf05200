"""The officers' web app of the hub (FastAPI, server-rendered, no CDN)."""
