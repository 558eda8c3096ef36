"""Thin views: parse input, call a service, shape the response.

Reading views' names sort before writing ones' (docs/DESIGN.md, "Views and
routes").
"""
