"""Thin HTTP handlers: parse, call one service, render."""
