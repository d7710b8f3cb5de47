"""``python -m loyaltylab`` and the ``loyaltylab`` command.

The signal handlers are installed before the command line's heavy imports (about two
seconds of pandas and matplotlib), so an early Ctrl-C or SIGTERM is exit 130 too, not a
traceback or 143.
"""

import sys

from loyaltylab import interrupts

#: Exit code of an interrupted command (128 + SIGINT).
EXIT_INTERRUPTED = 130


def main() -> int:
    """Install the interrupt handlers, then run the command line."""
    interrupts.install()
    try:
        from loyaltylab.cli import main as command_line

        return command_line()
    except KeyboardInterrupt:
        print("loyaltylab: interrupted; nothing written", file=sys.stderr)
        interrupts.handled()
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
