"""Pure pipeline stages: arrays and frozen dataclasses in, the same out.

Nothing here touches the file system, the clock of the service, logging
configuration, processes or signals; ``load`` decodes bytes it is given.
"""
