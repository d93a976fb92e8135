from setuptools import setup

setup(name="downstream", install_requires=["isagellm-protocol~=0.5.4", "click"])
