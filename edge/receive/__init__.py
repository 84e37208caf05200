"""Receivers: the reference receiver for central systems and the officers' alert console."""
