"""Call flows as a center runs them: versions in SQL (drafts, published, live), the flows a call
runs, diffs, diagrams, trial calls of a draft, and the lines' announcements. (The YAML flows
shipped with the engine sit in this folder too.)"""
