"""Small bots, written as their authors would, that tests start under ``exec``."""
