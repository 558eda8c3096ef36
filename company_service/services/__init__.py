"""Business rules: plain classes that take a session. No HTTP in here."""
