"""`reelforge`: the command-line client (Typer + Rich). A pure HTTP client of the API: it imports
nothing from app/, worker/ or core/, so it installs and runs anywhere."""
