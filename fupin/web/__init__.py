"""The platform (平台填报): units hand in their report on a web page; the office sees the month on one board."""
