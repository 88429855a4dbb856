"""review: the office's 审核 of each unit's month — states, transitions, the month's lock and warnings' 说明."""
