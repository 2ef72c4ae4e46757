"""The subcommands of `domlint`: each module registers its parser and runs it."""
