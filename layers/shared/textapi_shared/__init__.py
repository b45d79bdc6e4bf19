"""Infrastructure shared by the textapi Lambda functions: config, errors, web, security, monitoring.

Kept import-light on purpose: importing this package loads nothing but this line.
"""

__version__ = "0.1.0"
