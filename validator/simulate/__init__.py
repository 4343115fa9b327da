"""The executable spec: scenarios run as a model of restore, hotplug and reset, and priced."""
