"""Thin views: parse input, call a service, shape the response.

Pyramid tries a route's views in the order ``config.scan`` registers them,
which is the alphabetical order of their names in a module, and each one
tried before the right one costs a raised PredicateMismatch. The reading
views' names (``get_``, ``list_``) therefore sort before the writing ones'
(``patch_``, ``post_``, ``remove_``, ``replace_``): a GET finds its view
first.
"""
