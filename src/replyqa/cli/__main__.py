"""`python -m replyqa.cli`."""

from . import main

main()
