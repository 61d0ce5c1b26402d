from catalyst.cli import main

main()
