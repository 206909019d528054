"""Signup and login: bcrypt off the event loop, JWT issue and verify."""
