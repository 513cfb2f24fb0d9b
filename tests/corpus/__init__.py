"""Labelled corpora of real exceptions used by the classifier tests."""
