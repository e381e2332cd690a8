package other

deny contains "never read" if true
