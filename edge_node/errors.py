"""The exceptions drivers, radios and stores raise, apart from the wake cycle that handles them.

Every adapter translates its third-party errors (OSError, umqtt's MQTTException, I2C
failures) into one of these at its boundary. Runs on MicroPython and CPython.
"""


class SensorError(Exception):
    """The sensor did not answer or gave no valid reading this wake."""


class RadioError(Exception):
    """The network or broker could not be reached, timed out, or refused a message."""


class StorageError(Exception):
    """A flash write failed (seq floor, boot counter)."""
