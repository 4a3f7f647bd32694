"""``python -m imconv``: the same as the ``imconv`` command."""

from imconv.cli import main

if __name__ == "__main__":
    main()
