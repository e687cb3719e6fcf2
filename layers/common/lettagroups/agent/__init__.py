"""The agent runtime: tool catalog, prompts, the agent step and model providers."""
