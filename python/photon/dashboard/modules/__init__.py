"""The dashboard's modules: each adds routes to the head's application."""
