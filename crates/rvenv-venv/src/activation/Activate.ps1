# Activates the virtual environment at __VENV_COMMENT__ (written by rvenv).
# Use it with `. __VENV_COMMENT__/bin/Activate.ps1` from PowerShell (pwsh); `deactivate` undoes it.

if ((Test-Path env:VIRTUAL_ENV) -and (Test-Path function:global:deactivate)) {
    deactivate
}

function global:deactivate([switch] $NonDestructive) {
    if (Test-Path variable:global:_RvenvSavedPath) {
        $env:PATH = $global:_RvenvSavedPath
        Remove-Variable -Name _RvenvSavedPath -Scope Global
    }
    if (Test-Path variable:global:_RvenvSavedPythonHome) {
        $env:PYTHONHOME = $global:_RvenvSavedPythonHome
        Remove-Variable -Name _RvenvSavedPythonHome -Scope Global
    }
    if (Test-Path function:global:_RvenvSavedPrompt) {
        Copy-Item -Path function:global:_RvenvSavedPrompt -Destination function:global:prompt
        Remove-Item -Path function:global:_RvenvSavedPrompt
    }
    Remove-Item -Path env:VIRTUAL_ENV -ErrorAction SilentlyContinue
    Remove-Item -Path env:VIRTUAL_ENV_PROMPT -ErrorAction SilentlyContinue
    if (-not $NonDestructive) {
        Remove-Item -Path function:global:deactivate
    }
}

$env:VIRTUAL_ENV = __VENV_PS1__
$env:VIRTUAL_ENV_PROMPT = __PROMPT_PS1__

$global:_RvenvSavedPath = $env:PATH
$env:PATH = (Join-Path $env:VIRTUAL_ENV 'bin') + [System.IO.Path]::PathSeparator + $env:PATH

if (Test-Path env:PYTHONHOME) {
    $global:_RvenvSavedPythonHome = $env:PYTHONHOME
    Remove-Item -Path env:PYTHONHOME
}

if (-not (Test-Path env:VIRTUAL_ENV_DISABLE_PROMPT)) {
    Copy-Item -Path function:global:prompt -Destination function:global:_RvenvSavedPrompt
    function global:prompt {
        Write-Host -NoNewline "($env:VIRTUAL_ENV_PROMPT) "
        _RvenvSavedPrompt
    }
}
