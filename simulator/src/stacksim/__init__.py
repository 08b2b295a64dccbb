"""stacksim: an OpenStack simulator that speaks the real REST APIs on one port."""

__version__ = "0.1.0"
