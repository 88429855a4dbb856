"""pandera contracts for what units and the HR bureau send, with located, bilingual failure messages."""
