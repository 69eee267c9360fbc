"""The load suite: one table of scenarios (scenarios.py), the driver that runs them against a
fresh, seeded database (driver.py, locustfile.py) and the report (report.py).

    python -m ammo run [SCENARIO...]    # see ammo/README.md
"""
