"""Sensor drivers; each takes its bus or ADC as a parameter and returns integers."""
