"""Clients for the stack's services. No Textual here."""
