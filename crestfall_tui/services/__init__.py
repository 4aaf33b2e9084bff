"""Domain logic without UI. No Textual here."""
