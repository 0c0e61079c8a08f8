"""The zoo's conformance kit run against this plugin: one test item per check."""

ZOO_PLUGIN = "gru"


def test_conformance(zoo_check):
    zoo_check()
