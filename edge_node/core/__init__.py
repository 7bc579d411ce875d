"""Pure core shared by nodes, simulator and gateway; runs on MicroPython and CPython.

No hardware, network or clock in here: readings and time are passed in.
"""
