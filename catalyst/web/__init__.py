"""The read-only web dashboard (`catalyst web`): the journal as a page that refreshes itself."""
