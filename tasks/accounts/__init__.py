"""Platform accounts: password hashing, tokens, the lockout policy, users, sessions and the audit log."""
