"""The performance harness: ``python -m benchmarks`` measures each metric against the raw limit
of the database it runs on, so a figure always comes with what the hardware could do at best."""
