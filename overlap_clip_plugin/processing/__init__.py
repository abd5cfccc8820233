"""The Processing provider and the algorithms of Overlap Clip."""
