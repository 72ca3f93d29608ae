"""Golden paths: named, parameterised workflows that platform teams publish for developers."""
