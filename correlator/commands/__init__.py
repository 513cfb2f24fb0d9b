"""The command line, and the answers the incident commands read from the views."""
