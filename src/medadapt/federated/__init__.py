"""Federated adapter training on Flower: each hospital trains the adapter on its own samples,
and only the adapter's weights (and counts and metrics) cross the network.

One Flower app, written once (:mod:`.client` and :mod:`.server`), runs two ways: in Flower's
simulation engine on one machine (:mod:`.simulate`, for studies and tests), and as a SuperLink
with SuperNodes at the hospitals (deployment).
"""
