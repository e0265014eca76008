"""Retention: archive events older than the policy allows, then purge exactly those.

``policy`` says how long events are kept, ``selection`` finds the expired ones, ``archive``
writes them (compressed NDJSON of Graph-shaped records, plus a manifest; ``compression``
says how), ``purge`` deletes a batch
and records the chain checkpoint, and ``run`` puts the steps in the order that makes a killed
run safe to repeat.
"""
