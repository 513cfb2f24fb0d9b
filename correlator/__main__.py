from correlator.commands.cli import main

main()
