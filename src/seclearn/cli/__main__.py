"""`python -m seclearn.cli`."""

from seclearn.cli.main import main

main()
