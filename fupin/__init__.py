"""fupin: the monthly data pipeline of Beijing's poverty-alleviation support office (北京市扶贫支援办)."""
