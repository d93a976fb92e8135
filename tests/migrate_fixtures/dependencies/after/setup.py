from setuptools import setup

setup(name="downstream", install_requires=["isagellm-protocol>=1.0", "click"])
