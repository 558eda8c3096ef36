"""Thin views: parse input, call a service, shape the response."""
